convrt
x"9
actx*
$Fuzz/corpus/dsl/sigmoid_wide.convnetª*act