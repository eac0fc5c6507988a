package mock

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Media types the endpoint answers with.
const (
	mediaJSON    = "application/json"
	mediaJSONAPI = "application/vnd.api+json"
)

// apiError is one JSON:API error object; empty members are omitted, as the real framework does.
type apiError struct {
	ID     string          `json:"id,omitempty"`
	Links  *apiErrorLinks  `json:"links,omitempty"`
	Status string          `json:"status,omitempty"`
	Code   string          `json:"code,omitempty"`
	Title  string          `json:"title,omitempty"`
	Detail string          `json:"detail,omitempty"`
	Source *apiErrorSource `json:"source,omitempty"`
	Meta   map[string]any  `json:"meta,omitempty"`
}

type apiErrorLinks struct {
	About string `json:"about,omitempty"`
}

type apiErrorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

type errorDocument struct {
	Errors []apiError `json:"errors"`
}

// mockFailure is an error the mock itself answers (not a scenario): a bad selector, a bad admin call.
type mockFailure struct {
	status int
	code   string
	title  string
	detail string
	meta   map[string]any
	more   []apiError // further errors, e.g. one per reload problem
}

func (f *mockFailure) Error() string { return f.title + ": " + f.detail }

// writeErrors writes a JSON:API error document whose errors carry the request id and the status.
func writeErrors(w http.ResponseWriter, status int, requestID string, errs ...apiError) {
	st := strconv.Itoa(status)
	for i := range errs {
		errs[i].ID = requestID
		errs[i].Status = st
	}
	writeJSON(w, status, mediaJSONAPI, errorDocument{Errors: errs})
}

// writeFailure answers a mock-side failure, marking it with X-Mock-Error so nobody mistakes it for the real API.
func writeFailure(w http.ResponseWriter, requestID string, f *mockFailure) {
	w.Header().Set("X-Mock-Error", f.code)
	errs := append([]apiError{{Code: f.code, Title: f.title, Detail: f.detail, Meta: f.meta}}, f.more...)
	writeErrors(w, f.status, requestID, errs...)
}

// writeJSON writes v with two-space indentation, as the real server does.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		// Only our own types reach here; failing to encode them is a programming error.
		body = []byte(`{"errors":[{"status":"500","code":"encode-failed","title":"Mock failed to encode its answer"}]}`)
		status = http.StatusInternalServerError
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
