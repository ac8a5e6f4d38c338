package decoder

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMajorMinor(t *testing.T) {
	sys := t.TempDir()
	for dev, name := range map[string]string{"8:0": "sda", "8:16": "sdb", "259:1": "nvme0n1p1", "8:300": "sdq12"} {
		if err := os.MkdirAll(filepath.Join(sys, dev), 0o755); err != nil {
			t.Fatal(err)
		}
		uevent := "MAJOR=" + dev + "\nDEVNAME=" + name + "\nDEVTYPE=disk\n"
		if err := os.WriteFile(filepath.Join(sys, dev, "uevent"), []byte(uevent), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A uevent without DEVNAME.
	if err := os.MkdirAll(filepath.Join(sys, "7:0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sys, "7:0", "uevent"), []byte("MAJOR=7\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// new_encode_dev(MKDEV(ma, mi)) = (mi & 0xff) | (ma << 8) | ((mi & ~0xff) << 12)
	enc := func(ma, mi uint32) uint32 { return mi&0xff | ma<<8 | (mi&^0xff)<<12 }
	m := newMajorMinor(sys)
	runDecodeCases(t, m, []decodeCase{
		{name: "sda", in: []byte{0x0, 0x8, 0x0, 0x0}, out: "sda"},
		{name: "sdb", in: u32(enc(8, 16)), out: "sdb"},
		{name: "large minor", in: u32(enc(8, 300)), out: "sdq12"},
		{name: "nvme u64", in: u64(uint64(enc(259, 1))), out: "nvme0n1p1"},
		{name: "cached", in: u32(enc(8, 0)), out: "sda"},
		{name: "unknown", in: u32(enc(136, 16)), out: "136:16"},
		{name: "no devname", in: u32(enc(7, 0)), out: "7:0"},
		{name: "zero", in: u32(0), out: "0:0"},
		{name: "decimal string is not raw", in: []byte("2048x"), err: "input is 5 bytes, want 4 or 8"},
		{name: "2 bytes", in: u16(1), err: "input is 2 bytes, want 4 or 8"},
	})
}
