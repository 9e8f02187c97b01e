convrt
x	
"H
poolx4
.Fuzz/corpus/dsl/adaptivemaxpool2d_asym.convnetÊ*pool