// Go net/http peer: the contract's bench blocks, flushed per event with http.Flusher.
// usage: go run go_server.go PORT
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

var words = []string{" the", " stream", " token", " flows", " fast", " and", " clear", " over"}

type block struct {
	count int
	delay time.Duration
}

var blocks = map[string]block{"bench-burst": {256, 0}, "bench-paced": {64, 20 * time.Millisecond}}

type chunk struct {
	Index int    `json:"index"`
	Text  string `json:"text"`
}

func stream(w http.ResponseWriter, r *http.Request) {
	b, ok := blocks[strings.TrimPrefix(r.URL.Path, "/api/stream/ai-block/")]
	if !ok {
		http.Error(w, `{"error":{"code":"unknown_block","message":"?"}}`, http.StatusNotFound)
		return
	}
	flusher := w.(http.Flusher)
	id := make([]byte, 8)
	rand.Read(id)
	sid := hex.EncodeToString(id)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	for i := 0; i < b.count; i++ {
		data, _ := json.Marshal(chunk{i, words[i%len(words)]})
		fmt.Fprintf(w, "id: %s.%d\nevent: chunk\ndata: %s\n\n", sid, i+1, data)
		flusher.Flush()
		if b.delay > 0 {
			select {
			case <-time.After(b.delay):
			case <-r.Context().Done():
				return
			}
		}
	}
	fmt.Fprintf(w, "id: %s.%d\nevent: complete\ndata: {\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":1,\"output_tokens\":%d},\"chunks\":%d}\n\n",
		sid, b.count+1, b.count, b.count)
	flusher.Flush()
}

func collect(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	json.NewDecoder(r.Body).Decode(&req)
	name := strings.TrimPrefix(r.URL.Path, "/api/ai-block/")
	b, ok := blocks[name]
	if !ok {
		b = block{256, 0}
	}
	var text strings.Builder
	for i := 0; i < b.count; i++ {
		text.WriteString(words[i%len(words)])
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"block_type": name, "text": text.String(), "finish_reason": "stop",
		"usage": map[string]int{"input_tokens": 1, "output_tokens": b.count}})
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/stream/ai-block/", stream)
	mux.HandleFunc("/api/ai-block/", collect)
	server := &http.Server{Addr: "127.0.0.1:" + os.Args[1], Handler: mux}
	if err := server.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
