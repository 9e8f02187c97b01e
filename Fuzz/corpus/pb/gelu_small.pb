convrt
x"7
actx(
"Fuzz/corpus/dsl/gelu_small.convnetª	*act