package mock

import (
	"github.com/fedtoken/fedtoken-mock/mock/panel"
	"github.com/gin-gonic/gin"
)

// routePanel serves the browser control panel on the open group: a browser loading the page sends no
// bearer token; the page asks for one only when an API call answers 401.
func (s *Server) routePanel(open, _ *gin.RouterGroup) {
	h := gin.WrapH(panel.Handler())
	for _, p := range []string{"", "/", "/ui", "/ui/*asset"} {
		open.GET(p, h)
		open.HEAD(p, h)
	}
}
