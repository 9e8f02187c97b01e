convrt
a
b"@
yab0
*Fuzz/corpus/dsl/div_broadcast_rows.convnetâ*y