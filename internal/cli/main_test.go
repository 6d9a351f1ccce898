package cli

import (
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

// TestMain stops the shared moto server the resolve-ids tests start.
func TestMain(m *testing.M) { moto.Main(m) }
