// Package repocheck holds tests over the repository itself: comments and
// documents that name a file of the repository must name one that exists,
// and every exported name of a library package has a doc comment.
package repocheck
