convrt
a
b"@
yab0
*Fuzz/corpus/dsl/mul_broadcast_both.convnetâ*y