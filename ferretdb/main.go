// Command ferretdb runs FerretDB 2.5 as the embedded development and test database of
// Silk Road Tracker: a MongoDB wire protocol listener in front of PostgreSQL 15 with the
// DocumentDB extension (see embedded/ for the cluster it talks to).
//
// It wraps the embeddable ferretdb package so that the build comes from the Go module proxy
// alone. Telemetry is off twice over: Telemetry=false in the configuration and DO_NOT_TRACK=1
// in the environment, so the beacon is never called.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/v2/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (MongoDB wire protocol)")
	postgres := flag.String("postgresql-url", "postgres://127.0.0.1:5433/postgres", "PostgreSQL URL of the DocumentDB cluster")
	stateDir := flag.String("state-dir", ".data/ferretdb", "directory for FerretDB's small state file")
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()

	if err := os.Setenv("DO_NOT_TRACK", "1"); err != nil {
		log.Fatal(err)
	}
	abs, err := filepath.Abs(*stateDir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Fatal(err)
	}

	level := slog.LevelWarn
	if *debug {
		level = slog.LevelDebug
	}
	telemetry := false
	f, err := ferretdb.New(&ferretdb.Config{
		PostgreSQLURL: *postgres,
		ListenAddr:    *listen,
		StateDir:      abs,
		LogLevel:      level,
		LogOutput:     os.Stderr,
		Telemetry:     &telemetry,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb: listening on %s, PostgreSQL at %s", *listen, *postgres)
	f.Run(ctx)
	log.Printf("ferretdb: stopped")
}
