// Command loadgen drives the TokenReview webhook for the throughput benchmark
// (hack/bench-server.sh), and also plays the ceiling it is compared with: a
// TLS server that answers a fixed TokenReview without reading the request.
//
//	loadgen null -addr 127.0.0.1:0
//	loadgen run -url https://127.0.0.1:21362/authenticate -tokens distinct -control 127.0.0.1:PORT
//
// It is a benchmark tool; it is never part of a release.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "null":
		err = runNull(os.Args[2:])
	case "run":
		err = runLoad(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: loadgen null [flags] | loadgen run [flags]; -h after the mode lists its flags\n\n"+
		"Examples:\n"+
		"  loadgen null -addr 127.0.0.1:0\n"+
		"  loadgen run -url https://127.0.0.1:21362/authenticate -c 16 -d 10s -tokens repeated -control 127.0.0.1:40001\n")
	os.Exit(2)
}
