import ConvRT
print("convrt")
