convrt
x"M
padx4
.Fuzz/corpus/dsl/replicationpad3d_large.convnetª*pad