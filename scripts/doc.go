// Package scripts holds no code: its tests check the shell scripts of this
// folder (syntax, the dry run of gpu-oneshot.sh, and how gpu-oneshot.sh
// behaves without a GPU and against fake binaries), so that `make test`
// catches a broken script before a GPU visit does.
package scripts
