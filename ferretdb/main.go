// Command ferretdb runs FerretDB 1.24 with its SQLite backend as an embedded
// development database for Silk Road Tracker.
//
// It uses the embeddable ferretdb package rather than `go install .../cmd/ferretdb`,
// whose binary panics at start because version.txt is not part of the module.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", ".data", "directory for the SQLite database files")
	flag.Parse()

	abs, err := filepath.Abs(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Fatal(err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb: listening on %s, data in %s", *addr, abs)
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
	log.Printf("ferretdb: stopped")
}
