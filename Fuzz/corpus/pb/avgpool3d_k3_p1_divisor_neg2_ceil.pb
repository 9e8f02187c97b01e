convrt
x"y
poolx?
9Fuzz/corpus/dsl/avgpool3d_k3_p1_divisor_neg2_ceil.convnetÂ,"*2:@HPþÿÿÿÿÿÿÿÿ*pool