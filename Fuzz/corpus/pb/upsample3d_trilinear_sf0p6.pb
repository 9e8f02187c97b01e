convrt
x"`
upx8
2Fuzz/corpus/dsl/upsample3d_trilinear_sf0p6.convnet²"333333ã?333333ã?333333ã?*up