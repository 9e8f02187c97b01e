convrt
x";
yx,
&Fuzz/corpus/dsl/flatten_middle.convnetò*y