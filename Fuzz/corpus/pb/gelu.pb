convrt
x"1
actx"
Fuzz/corpus/dsl/gelu.convnetª	*act