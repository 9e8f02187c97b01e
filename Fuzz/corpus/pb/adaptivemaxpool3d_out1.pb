convrt
x"I
poolx4
.Fuzz/corpus/dsl/adaptivemaxpool3d_out1.convnetÊ*pool