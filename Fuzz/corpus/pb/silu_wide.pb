convrt
x"6
actx'
!Fuzz/corpus/dsl/silu_wide.convnetª*act