package mock

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Request is one journal entry: what a client sent to the token endpoint and what answered.
type Request struct {
	Seq        uint64      `json:"-"`
	Time       time.Time   `json:"time"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	Provider   string      `json:"provider"`
	Session    string      `json:"session,omitempty"`
	Scenario   string      `json:"scenario"`
	Step       string      `json:"step,omitempty"`
	SelectedBy string      `json:"selected_by"`
	Status     int         `json:"status"`
	Fault      string      `json:"fault,omitempty"`
	DurationMS float64     `json:"duration_ms"`
	RequestID  string      `json:"request_id"`
	Headers    http.Header `json:"headers"`
}

// RequestFilter narrows a journal read; zero fields match everything.
type RequestFilter struct {
	Provider string
	Scenario string
	Session  string
	// Limit keeps only the newest Limit entries; 0 means all.
	Limit int
}

func (f RequestFilter) match(r *Request) bool {
	return (f.Provider == "" || r.Provider == f.Provider) &&
		(f.Scenario == "" || r.Scenario == f.Scenario || r.Step == f.Scenario) &&
		(f.Session == "" || r.Session == f.Session)
}

// journal is a fixed ring of entries written without a lock: each request claims a slot with
// one atomic add, so recording never makes requests queue on each other.
type journal struct {
	slots []atomic.Pointer[Request]
	next  atomic.Uint64
	// cleared hides entries older than a DELETE; dropped sessions are filtered via their own marks.
	cleared atomic.Uint64
}

func newJournal(size int) *journal {
	if size <= 0 {
		return &journal{}
	}
	return &journal{slots: make([]atomic.Pointer[Request], size)}
}

func (j *journal) enabled() bool { return len(j.slots) > 0 }

func (j *journal) add(r *Request) {
	if len(j.slots) == 0 {
		return
	}
	n := j.next.Add(1)
	r.Seq = n
	j.slots[(n-1)%uint64(len(j.slots))].Store(r)
}

// list returns the matching entries oldest first.
func (j *journal) list(f RequestFilter) []Request {
	floor := j.cleared.Load()
	out := make([]Request, 0, 16)
	for i := range j.slots {
		r := j.slots[i].Load()
		if r != nil && r.Seq > floor && f.match(r) {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b Request) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	// Entries are shared with concurrent readers; a caller editing its copy's headers must not reach them.
	for i := range out {
		out[i].Headers = out[i].Headers.Clone()
	}
	return out
}

// clear hides every entry recorded so far.
func (j *journal) clear() { j.cleared.Store(j.next.Load()) }

// dropSession removes a session's entries.
func (j *journal) dropSession(key string) {
	for i := range j.slots {
		if r := j.slots[i].Load(); r != nil && r.Session == key {
			j.slots[i].CompareAndSwap(r, nil)
		}
	}
}

// redactedHeaders never reach the journal or the logs with their values.
var redactedHeaders = []string{"Authorization", "Proxy-Authorization", "Api-Key", "X-Api-Key", "Cookie"}

// maxJournalHeaderBytes bounds the headers kept per entry, so a full ring stays small even when
// clients send huge headers.
const maxJournalHeaderBytes = 8 << 10

// redact copies h, keeping an auth scheme but never a credential, within maxJournalHeaderBytes.
// Values are shared with the request, which nothing mutates once its handler has returned.
func redact(h http.Header) http.Header {
	out := make(http.Header, len(h))
	budget := maxJournalHeaderBytes
	for k, vs := range h {
		if slices.Contains(redactedHeaders, k) {
			out[k] = redactValues(k, vs)
			continue
		}
		size := len(k)
		for _, v := range vs {
			size += len(v)
		}
		if budget -= size; budget < 0 {
			out[k] = []string{"[truncated]"}
			continue
		}
		out[k] = vs
	}
	return out
}

const bearerRedacted = "Bearer [redacted]"

func redactValues(k string, vs []string) []string {
	if len(vs) == 1 && k == "Authorization" && strings.HasPrefix(vs[0], "Bearer ") {
		return []string{bearerRedacted}
	}
	red := make([]string, len(vs))
	for i, v := range vs {
		scheme, _, ok := strings.Cut(v, " ")
		switch {
		case !ok || (k != "Authorization" && k != "Proxy-Authorization") || len(scheme) >= 20:
			red[i] = "[redacted]"
		case scheme == "Bearer":
			red[i] = bearerRedacted // the common case, without a concatenation
		default:
			red[i] = scheme + " [redacted]"
		}
	}
	return red
}
