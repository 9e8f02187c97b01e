convrt
x"Q
poolx:
4Fuzz/corpus/dsl/adaptiveavgpool3d_out1_rank3.convnetÊ	*pool