package mock

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that keeps nothing, so handler benchmarks measure the mock, not the recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchRequest(path string, headers ...[2]string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, nil)
	req.Header.Set("Authorization", "Bearer bench")
	for _, h := range headers {
		req.Header.Set(h[0], h[1])
	}
	return req
}

// BenchmarkHandler runs the whole handler (routing, selection, rendering, journal) per request.
func BenchmarkHandler(b *testing.B) {
	cases := []struct {
		name    string
		headers [][2]string
	}{
		{"success", nil},
		{"missing-linked-identity", [][2]string{{"X-Mock-Scenario", "missing-linked-identity"}}},
		{"prefer-code-404", [][2]string{{"Prefer", "code=404"}}},
		{"session", [][2]string{{"X-Mock-Session", "bench"}}},
	}
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := benchRequest(tokenURL("mobypay"), c.headers...)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkHandlerLogged is the success path with the binary's default text log line, written to
// a discarding sink, to show what logging costs per request.
func BenchmarkHandlerLogged(b *testing.B) {
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	req := benchRequest(tokenURL("mobypay"))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkRender renders each built-in scenario's body with a pooled faker.
func BenchmarkRender(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	set := s.set.Load()
	for _, sc := range set.ordered {
		if sc.body == nil {
			continue
		}
		b.Run(sc.name, func(b *testing.B) {
			f := set.getFaker()
			defer set.putFaker(f)
			v := &Vars{Provider: "mobypay", RequestID: "cbgmhslmp1o9or9kh1p0"}
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = sc.body.render(buf[:0], f, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSelect measures choosing a scenario without rendering.
func BenchmarkSelect(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	set := s.set.Load()
	cases := []struct {
		name    string
		headers [][2]string
	}{
		{"default", nil},
		{"header", [][2]string{{"X-Mock-Scenario", "not-found"}}},
		{"prefer", [][2]string{{"Prefer", "code=500"}}},
	}
	now := time.Now()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := benchRequest(tokenURL("mobypay"), c.headers...)
			b.ReportAllocs()
			for b.Loop() {
				sel := s.choose(set, req, "mobypay", "", now)
				if sel.sc == nil {
					b.Fatal("no scenario")
				}
			}
		})
	}
}

// BenchmarkLoadBuiltins measures a full load of the built-in set, as start-up and reload do.
func BenchmarkLoadBuiltins(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s, err := New(Options{Logger: nil})
		if err != nil {
			b.Fatal(err)
		}
		_ = s
	}
}
