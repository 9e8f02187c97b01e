convrt
x	
"T
poolx,
&Fuzz/corpus/dsl/avgpool2d_asym.convnetÂ"*2:H*pool