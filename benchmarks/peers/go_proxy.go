// The gateway benchmarks' pass-through peer: Go's net/http/httputil
// ReverseProxy in front of the fake OpenAI upstream, flushing every write
// (FlushInterval -1), so it passes the upstream's bytes on unparsed.
//
//	go_proxy PORT UPSTREAM_PORT
package main

import (
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: go_proxy PORT UPSTREAM_PORT")
	}
	upstream, err := url.Parse("http://127.0.0.1:" + os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	proxy.FlushInterval = -1
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 20000, DisableCompression: true}
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Args[1], proxy))
}
