package mock

import (
	"errors"
	"net/http"
)

// Server is one mock instance: its scenarios, runtime switches and journal.
type Server struct {
	opts Options
}

var errTODO = errors.New("not implemented yet")

// New loads the scenarios and builds a Server; a *LoadError lists every problem found.
func New(opts Options) (*Server, error) { return &Server{opts: opts}, errTODO }

// Handler serves the token endpoint, the admin API and the panel on one port.
func (s *Server) Handler() http.Handler { return http.NotFoundHandler() }

// EndpointHandler serves only the token endpoint (for a separate admin listener).
func (s *Server) EndpointHandler() http.Handler { return http.NotFoundHandler() }

// AdminHandler serves only the admin API and panel (for a separate admin listener).
func (s *Server) AdminHandler() http.Handler { return http.NotFoundHandler() }

// Reload re-reads every scenario source and swaps the new set in whole, or keeps the old one.
func (s *Server) Reload() (ReloadReport, error) { return ReloadReport{}, errTODO }

// Close releases requests held by hanging or delayed scenarios so shutdown does not wait on them.
func (s *Server) Close() {}

// ReloadReport says what a successful reload loaded and which runtime switches it dropped.
type ReloadReport struct {
	Scenarios int      `json:"scenarios"`
	Dropped   []string `json:"dropped,omitempty"`
}
