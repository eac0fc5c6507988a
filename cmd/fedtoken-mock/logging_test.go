package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a server under test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// countingWriter counts the writes that reach it, to show buffering batches them.
type countingWriter struct {
	syncBuffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.syncBuffer.Write(p)
}

func TestFlushWriterLosesNoLineUnderConcurrency(t *testing.T) {
	const goroutines, perG = 8, 500
	dst := &countingWriter{}
	w := newFlushWriter(dst, 4<<10, time.Hour) // only size and Close flush here
	logger := newLogger(w, "json", slog.LevelInfo)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				logger.Info("request", "g", g, "i", i, "pad", strings.Repeat("x", i%300))
			}
		})
	}
	wg.Wait()
	require.NoError(t, w.Close())

	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(dst.String()))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		var line struct {
			Msg  string
			G, I int
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "a torn line: %q", sc.Text())
		key := fmt.Sprint(line.G, "/", line.I)
		assert.False(t, seen[key], "duplicate %s", key)
		seen[key] = true
	}
	assert.Len(t, seen, goroutines*perG)
	assert.Less(t, dst.writes, goroutines*perG/10, "writes were not batched")
}

func TestFlushWriterFlushesPeriodically(t *testing.T) {
	dst := &syncBuffer{}
	w := newFlushWriter(dst, 64<<10, 5*time.Millisecond)
	defer w.Close()
	_, err := io.WriteString(w, "line one\n")
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return dst.String() == "line one\n" }, 5*time.Second, time.Millisecond)
}

func TestFlushWriterAfterCloseWritesThrough(t *testing.T) {
	dst := &syncBuffer{}
	w := newFlushWriter(dst, 64<<10, time.Hour)
	_, err := io.WriteString(w, "before\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, "before\n", dst.String())
	require.NoError(t, w.Close(), "Close is idempotent")
	_, err = io.WriteString(w, "after\n")
	require.NoError(t, err)
	assert.Equal(t, "before\nafter\n", dst.String())
}

func TestFlushWriterLargeWrite(t *testing.T) {
	dst := &syncBuffer{}
	w := newFlushWriter(dst, 16, time.Hour)
	_, err := io.WriteString(w, "small\n")
	require.NoError(t, err)
	big := strings.Repeat("b", 100) + "\n"
	_, err = io.WriteString(w, big)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, "small\n"+big, dst.String())
}

func TestNewLoggerFormatAndLevel(t *testing.T) {
	tests := []struct {
		format string
		level  slog.Level
		want   string
		absent string
	}{
		{"text", slog.LevelInfo, "level=INFO msg=shown", "hidden"},
		{"json", slog.LevelWarn, `"msg":"warned"`, "shown"},
		{"text", slog.LevelDebug, "msg=hidden", ""},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.level.String(), func(t *testing.T) {
			var buf bytes.Buffer
			l := newLogger(&buf, tt.format, tt.level)
			l.Debug("hidden")
			l.Info("shown")
			l.Warn("warned")
			assert.Contains(t, buf.String(), tt.want)
			if tt.absent != "" {
				assert.NotContains(t, buf.String(), tt.absent)
			}
		})
	}
}

// BenchmarkRequestLogLine compares one request log line written straight to the destination (one
// write(2) per line) with the buffered writer the binary uses, into a file and into a pipe (a
// container's stderr is a pipe).
func BenchmarkRequestLogLine(b *testing.B) {
	sinks := map[string]func(b *testing.B) io.Writer{
		"discard": func(*testing.B) io.Writer { return io.Discard }, // the cost of formatting alone
		"file": func(b *testing.B) io.Writer {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			require.NoError(b, err)
			b.Cleanup(func() { _ = f.Close() })
			return f
		},
		"pipe": func(b *testing.B) io.Writer {
			r, w, err := os.Pipe()
			require.NoError(b, err)
			drained := make(chan struct{})
			go func() { _, _ = io.Copy(io.Discard, r); close(drained) }()
			b.Cleanup(func() { _ = w.Close(); <-drained; _ = r.Close() })
			return w
		},
	}
	for _, sink := range []string{"discard", "file", "pipe"} {
		for _, mode := range []string{"unbuffered", "buffered"} {
			b.Run(sink+"/"+mode, func(b *testing.B) {
				w := sinks[sink](b)
				if mode == "buffered" {
					fw := newFlushWriter(w, logBufferSize, flushEvery)
					b.Cleanup(func() { _ = fw.Close() })
					w = fw
				}
				logger := newLogger(w, "json", slog.LevelInfo)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						logger.Info("request", "request_id", "cbgmhslmp1o9or9kh1p0", "method", "POST",
							"path", "/user/2021-2/federated-identities/mobypay/token", "provider", "mobypay",
							"scenario", "success", "selected_by", "default", "status", 200, "duration_ms", 0.42)
					}
				})
			})
		}
	}
}
