// Package prefetch asks the processor to bring a cache line in ahead of its
// use. The network builder writes hundreds of millions of synapses into
// thousands of rows at once, each row sequentially: the next line of a row
// is fetched while the current one fills, so that its first write finds it
// in the cache instead of stalling the core on a miss to memory. A hint
// never faults, whatever the address, and changes no result; where the
// processor or the port has no such instruction it does nothing.
package prefetch
