package main

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Log buffering: one write(2) per log line would make logging, not the mock, the cost of a fast
// request; so lines collect in a buffer that is written when it fills, every flushEvery, and on
// Close. A line therefore reaches the terminal at most flushEvery late, and none is lost at exit.
const (
	logBufferSize = 32 << 10
	flushEvery    = 100 * time.Millisecond
)

// flushWriter is a buffered writer, safe for concurrent use, flushed periodically and on Close.
type flushWriter struct {
	mu     sync.Mutex
	buf    *bufio.Writer
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// newFlushWriter buffers w and flushes it every interval until Close.
func newFlushWriter(w io.Writer, size int, interval time.Duration) *flushWriter {
	f := &flushWriter{buf: bufio.NewWriterSize(w, size), stop: make(chan struct{}), done: make(chan struct{})}
	go f.loop(interval)
	return f
}

func (f *flushWriter) loop(interval time.Duration) {
	defer close(f.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = f.Flush() // a failing log destination must not stop the server; Close reports it
		case <-f.stop:
			return
		}
	}
}

// Write buffers p; a write larger than the free space flushes first (bufio's rule), so lines are
// never split across flushes by the buffer itself.
func (f *flushWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		// After Close (a straggling request logging during exit) write through, unbuffered.
		if err := f.buf.Flush(); err != nil {
			return 0, err
		}
	}
	if len(p) > f.buf.Available() && f.buf.Buffered() > 0 {
		if err := f.buf.Flush(); err != nil {
			return 0, err
		}
	}
	n, err := f.buf.Write(p)
	if err == nil && f.closed {
		err = f.buf.Flush()
	}
	return n, err
}

// Flush writes out whatever is buffered.
func (f *flushWriter) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.Flush()
}

// Close stops the periodic flush and flushes the rest; later writes go straight through.
func (f *flushWriter) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	close(f.stop)
	<-f.done
	return f.Flush()
}

// newLogger builds the process logger: slog's text or JSON handler at the given level.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
