// Package repocheck holds tests over the repository itself: comments and
// documents that name a file of the repository must name one that exists.
package repocheck
