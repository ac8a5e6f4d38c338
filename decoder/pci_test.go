package decoder

import (
	"testing"
)

func TestPCIParse(t *testing.T) {
	db := newPCIDB("testdata/pci.ids")
	ok, err := db.load()
	if err != nil || !ok {
		t.Fatalf("load = %v, %v", ok, err)
	}
	if len(db.vendors) != 4 || len(db.devices) != 4 || len(db.classes) != 4 || len(db.subclasses) != 5 {
		t.Fatalf("parsed %d vendors, %d devices, %d classes, %d subclasses; want 4, 4, 4, 5",
			len(db.vendors), len(db.devices), len(db.classes), len(db.subclasses))
	}
}

func TestFindPCIIDs(t *testing.T) {
	if got := findPCIIDs([]string{"testdata/nope", "testdata/pci.ids"}); got != "testdata/pci.ids" {
		t.Errorf("got %q", got)
	}
	if got := findPCIIDs([]string{"testdata/nope"}); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestPCIReadError(t *testing.T) {
	// A directory exists but cannot be read as a file.
	runDecodeCases(t, pciVendor(newPCIDB("testdata")), []decodeCase{
		{name: "unreadable", in: []byte("1"), err: "reading pci.ids"},
	})
}
