/*
 * pbreader: an independent reader for convrt's model format (Protos/convrt.proto),
 * built on libprotobuf-c. It proves that .pb files written by convrt are plain
 * protobuf that other toolchains can read.
 *
 * Usage: pbreader MODEL.pb
 * Prints one line per node, in file order: `<name> <op>`, where <op> is the
 * PyTorch-style name Swift's `Op.displayName` gives (Conv2d, LazyConvTranspose3d,
 * Unfold, Fold, ReLU, GELU, LazyBatchNorm2d, Identity, Add). Exit status 1 on any
 * read or decode error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "convrt.pb-c.h"

/* Reads the whole file into a malloc'd buffer; returns NULL on failure. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *bigger = realloc(buf, cap *= 2);
        if (!bigger) { free(buf); buf = NULL; }
        else buf = bigger;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) { free(buf); return NULL; }
    *len = n;
    return buf;
}

/* Writes a conv layer's display name, e.g. LazyConvTranspose2d, into out. */
static void conv_name(const Convrt__V1__ConvAttrs *a, char *out, size_t size) {
    snprintf(out, size, "%s%s%" PRId64 "d", a->lazy ? "Lazy" : "",
             a->transposed ? "ConvTranspose" : "Conv", a->spatial_rank);
}

/* An activation's display name, or NULL for an unset or unknown kind. */
static const char *activation_name(const Convrt__V1__ActivationAttrs *a) {
    switch (a->kind) {
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_RELU: return "ReLU";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_RELU6: return "ReLU6";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_LEAKY_RELU: return "LeakyReLU";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_HARDTANH: return "Hardtanh";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_SIGMOID: return "Sigmoid";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_TANH: return "Tanh";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_SILU: return "SiLU";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_HARDSWISH: return "Hardswish";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_GELU: return "GELU";
    case CONVRT__V1__ACTIVATION_ATTRS__KIND__KIND_HARDSIGMOID: return "Hardsigmoid";
    default: return NULL;
    }
}

/* Writes a batch norm's display name, e.g. LazyBatchNorm2d, into out. */
static void batch_norm_name(const Convrt__V1__BatchNormAttrs *b, char *out, size_t size) {
    snprintf(out, size, "%sBatchNorm%" PRId64 "d", b->lazy ? "Lazy" : "", b->spatial_rank);
}

/* Writes a pooling layer's display name, e.g. MaxPool2d or AdaptiveAvgPool1d, into out. */
static void pool_name(const char *prefix, Convrt__V1__PoolAttrs__Kind kind, int64_t rank, char *out, size_t size) {
    snprintf(out, size, "%s%sPool%" PRId64 "d", prefix, kind == CONVRT__V1__POOL_ATTRS__KIND__KIND_MAX ? "Max" : "Avg", rank);
}

/* Writes a padding layer's display name, e.g. ReflectionPad2d, into out. */
static void pad_name(const Convrt__V1__PadAttrs *p, char *out, size_t size) {
    static const char *const modes[] = {"ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"};
    const char *mode = p->mode >= 0 && (size_t)p->mode < sizeof modes / sizeof *modes ? modes[p->mode] : "Pad";
    snprintf(out, size, "%s%zud", mode, p->n_begin);
}

/* Sub, Mul or Div; NULL for an unknown operator. */
static const char *binary_name(const Convrt__V1__BinaryAttrs *b) {
    switch (b->operator_) {
    case CONVRT__V1__BINARY_ATTRS__OPERATOR__OPERATOR_SUB: return "Sub";
    case CONVRT__V1__BINARY_ATTRS__OPERATOR__OPERATOR_MUL: return "Mul";
    case CONVRT__V1__BINARY_ATTRS__OPERATOR__OPERATOR_DIV: return "Div";
    default: return NULL;
    }
}

/* The display name of a node's op, or NULL if the op is unset or unknown. */
static const char *op_name(const Convrt__V1__Node *node, char *scratch, size_t size) {
    switch (node->op_case) {
    case CONVRT__V1__NODE__OP_CONV: conv_name(node->conv, scratch, size); return scratch;
    case CONVRT__V1__NODE__OP_UNFOLD: return "Unfold";
    case CONVRT__V1__NODE__OP_FOLD: return "Fold";
    case CONVRT__V1__NODE__OP_RELU: return "ReLU";
    case CONVRT__V1__NODE__OP_ADD: return "Add";
    case CONVRT__V1__NODE__OP_ACTIVATION: return activation_name(node->activation);
    case CONVRT__V1__NODE__OP_BATCH_NORM: batch_norm_name(node->batch_norm, scratch, size); return scratch;
    case CONVRT__V1__NODE__OP_IDENTITY: return "Identity";
    case CONVRT__V1__NODE__OP_POOL: pool_name("", node->pool->kind, node->pool->spatial_rank, scratch, size); return scratch;
    case CONVRT__V1__NODE__OP_ADAPTIVE_POOL:
        pool_name("Adaptive", node->adaptive_pool->kind, node->adaptive_pool->spatial_rank, scratch, size);
        return scratch;
    case CONVRT__V1__NODE__OP_LINEAR: return node->linear->lazy ? "LazyLinear" : "Linear";
    case CONVRT__V1__NODE__OP_MATMUL: return "MatMul";
    case CONVRT__V1__NODE__OP_BINARY: return binary_name(node->binary);
    case CONVRT__V1__NODE__OP_CONCAT: return "Concat";
    case CONVRT__V1__NODE__OP_FLATTEN: return "Flatten";
    case CONVRT__V1__NODE__OP_RESHAPE: return "Reshape";
    case CONVRT__V1__NODE__OP_TRANSPOSE: return "Transpose";
    case CONVRT__V1__NODE__OP_SQUEEZE: return "Squeeze";
    case CONVRT__V1__NODE__OP_UNSQUEEZE: return "Unsqueeze";
    case CONVRT__V1__NODE__OP_SLICE: return "Slice";
    case CONVRT__V1__NODE__OP_GATHER: return "Gather";
    case CONVRT__V1__NODE__OP_PAD: pad_name(node->pad, scratch, size); return scratch;
    case CONVRT__V1__NODE__OP_RESIZE: return "Upsample";
    case CONVRT__V1__NODE__OP_SOFTMAX: return node->softmax->log ? "LogSoftmax" : "Softmax";
    case CONVRT__V1__NODE__OP_REDUCE_MEAN: return "ReduceMean";
    case CONVRT__V1__NODE__OP_CONSTANT: return "Constant";
    default: return NULL;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.pb\n", argv[0]);
        return 2;
    }
    size_t len = 0;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) {
        perror(argv[1]);
        return 1;
    }
    Convrt__V1__Model *model = convrt__v1__model__unpack(NULL, len, bytes);
    free(bytes);
    if (!model) {
        fprintf(stderr, "%s: not a valid convrt model\n", argv[1]);
        return 1;
    }
    int status = 0;
    if (model->format_version != 1) {
        fprintf(stderr, "%s: unsupported format_version %u\n", argv[1], model->format_version);
        status = 1;
    }
    for (size_t i = 0; status == 0 && i < model->n_nodes; i++) {
        const Convrt__V1__Node *node = model->nodes[i];
        char scratch[64];
        const char *op = op_name(node, scratch, sizeof scratch);
        if (!op) {
            fprintf(stderr, "%s: node '%s' has no op\n", argv[1], node->name);
            status = 1;
            break;
        }
        printf("%s %s\n", node->name, op);
    }
    convrt__v1__model__free_unpacked(model, NULL);
    return status;
}
