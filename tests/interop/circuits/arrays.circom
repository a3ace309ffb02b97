pragma circom 2.0.0;

// Array inputs for the circom fixtures: a 2x3 matrix and a vector, both nested JSON arrays in the
// input; public output the matrix times the vector, and the vector's sum of squares.
template MatVec(R, C) {
    signal input m[R][C];
    signal input v[C];
    signal output mv[R];
    signal output squares;

    signal terms[R][C];
    signal partial[R][C];
    for (var r = 0; r < R; r++) {
        for (var c = 0; c < C; c++) {
            terms[r][c] <== m[r][c] * v[c];
            if (c == 0) {
                partial[r][c] <== terms[r][c];
            } else {
                partial[r][c] <== partial[r][c - 1] + terms[r][c];
            }
        }
        mv[r] <== partial[r][C - 1];
    }
    signal sq[C];
    var sum = 0;
    for (var c = 0; c < C; c++) {
        sq[c] <== v[c] * v[c];
        sum += sq[c];
    }
    squares <== sum;
}

component main = MatVec(2, 3);
