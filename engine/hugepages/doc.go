// Package hugepages gives the kernel a hint that a large array will be
// accessed in scattered order, so that it backs it with transparent huge
// pages (2 MiB on x86-64) where the system allows it: synapse arrays and
// delay ring buffers are written and read at random, and 4 KiB pages make
// each such access a TLB miss and each first touch a page fault.
package hugepages
