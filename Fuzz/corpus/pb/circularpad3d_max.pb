convrt
x"H
padx/
)Fuzz/corpus/dsl/circularpad3d_max.convnetª*pad