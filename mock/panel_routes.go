package mock

import "github.com/gin-gonic/gin"

// routePanel serves the browser control panel; wired once the panel package lands.
func (s *Server) routePanel(open, guarded *gin.RouterGroup) {}
