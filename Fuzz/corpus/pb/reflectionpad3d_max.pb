convrt
x"J
padx1
+Fuzz/corpus/dsl/reflectionpad3d_max.convnetª*pad