convrt
x	
"J
poolx4
.Fuzz/corpus/dsl/adaptiveavgpool2d_asym.convnetÊ*pool