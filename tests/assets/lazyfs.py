#!/usr/bin/python3
"""A pass-through FUSE filesystem that behaves like a storage card for the tests and benchmarks.

    lazyfs.py BACKING MOUNT CONTROL [--fsync-delay-ms N] [--lie]

Every file under MOUNT is the same file under BACKING. Two things differ from a plain
pass-through:

- Power cuts (LazyFS-style). Data written since a file's last fsync lives only "in the
  cache": the command `crash` on the control socket forgets it, as a power cut would (every
  page written since the file's last fsync goes back to what it held then, and the file to
  the size it had). Only what an fsync covered survives. With --lie, fsync returns at once
  and keeps nothing: the store above confirms writes that a power cut loses (the tests use it
  to show that they catch such a store).
- Slow cards. Each fsync takes --fsync-delay-ms longer (a cheap SD card takes 10-25 ms or
  more per synchronous write); `delay N` on the control socket changes it.

The control socket (a Unix stream socket at CONTROL) takes one command per line and answers
one line: `crash`, `delay N`, `stats` (fsyncs, writes and bytes written since the start).
"ready" is printed on standard output once the filesystem is mounted.
Needs Debian's python3-fusepy and fuse (libfuse2), and /dev/fuse.
"""

import errno
import os
import socket
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations

PAGE = 4096


class Card(Operations):
    def __init__(self, root, delay_ms, lie):
        self.root = root
        self.delay = delay_ms / 1000.0
        self.lie = lie
        self.mutex = threading.RLock()
        # Per file (path inside the mount): the pages written since its last fsync, with
        # what they held before, and the size it had at that fsync.
        self.undo = {}
        self.synced_size = {}
        self.fsyncs = 0
        self.writes = 0
        self.written = 0

    def _full(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    # What an fsync has not covered yet.

    def _remember(self, path, fd, start, end):
        """Keeps what the pages of [start, end) held before they are first changed."""
        with self.mutex:
            if path not in self.synced_size:
                self.synced_size[path] = os.fstat(fd).st_size
            pages = self.undo.setdefault(path, {})
            for page in range(start // PAGE, (max(end, start + 1) - 1) // PAGE + 1):
                if page not in pages:
                    pages[page] = os.pread(fd, PAGE, page * PAGE)

    def _covered(self, path, fd):
        with self.mutex:
            self.undo.pop(path, None)
            self.synced_size[path] = os.fstat(fd).st_size

    def crash(self):
        """Forgets every write no fsync covered; returns how many pages went back."""
        with self.mutex:
            restored = 0
            for path, pages in self.undo.items():
                full = self._full(path)
                if not os.path.exists(full):
                    continue
                fd = os.open(full, os.O_WRONLY)
                try:
                    for page, old in sorted(pages.items()):
                        os.pwrite(fd, old, page * PAGE)
                        restored += 1
                    os.ftruncate(fd, self.synced_size.get(path, 0))
                    os.fsync(fd)
                finally:
                    os.close(fd)
            self.undo.clear()
            self.synced_size.clear()
            return restored

    # The filesystem.

    def init(self, path):
        print("ready", flush=True)

    def access(self, path, amode):
        if not os.access(self._full(path), amode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        try:
            st = os.lstat(self._full(path))
        except FileNotFoundError:
            raise FuseOSError(errno.ENOENT)
        keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink",
                "st_size", "st_uid")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._full(path))

    def statfs(self, path):
        st = os.statvfs(self._full(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                "f_files", "f_flag", "f_frsize", "f_namemax")
        return {k: getattr(st, k) for k in keys}

    def chmod(self, path, mode):
        os.chmod(self._full(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._full(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._full(path), times)

    def mkdir(self, path, mode):
        os.mkdir(self._full(path), mode)

    def rmdir(self, path):
        os.rmdir(self._full(path))

    def unlink(self, path):
        with self.mutex:
            self.undo.pop(path, None)
            self.synced_size.pop(path, None)
        os.unlink(self._full(path))

    def rename(self, old, new):
        with self.mutex:
            os.rename(self._full(old), self._full(new))
            for table in (self.undo, self.synced_size):
                if old in table:
                    table[new] = table.pop(old)

    def open(self, path, flags):
        return os.open(self._full(path), flags & ~os.O_APPEND)

    def create(self, path, mode, fi=None):
        fd = os.open(self._full(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)
        with self.mutex:
            # A new file is empty after a power cut, whatever is written to it unsynced.
            self.synced_size.setdefault(path, 0)
        return fd

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        with self.mutex:
            self._remember(path, fh, offset, offset + len(data))
            self.writes += 1
            self.written += len(data)
            return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        fd = os.open(self._full(path), os.O_RDWR) if fh is None else fh
        try:
            with self.mutex:
                size = os.fstat(fd).st_size
                self._remember(path, fd, min(length, size), max(length, size))
                os.ftruncate(fd, length)
        finally:
            if fh is None:
                os.close(fd)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0

    def fsync(self, path, datasync, fh):
        if self.delay:
            time.sleep(self.delay)
        with self.mutex:
            self.fsyncs += 1
        if self.lie:
            return 0
        with self.mutex:
            os.fsync(fh)
            self._covered(path, fh)
        return 0

    def fsyncdir(self, path, datasync, fh):
        return 0

    # No lock operation: the kernel keeps POSIX locks itself, as on a local filesystem.



def serve_control(card, server):
    while True:
        conn, _ = server.accept()
        with conn, conn.makefile("rw") as f:
            for line in f:
                words = line.split()
                if words == ["crash"]:
                    reply = "ok %d" % card.crash()
                elif len(words) == 2 and words[0] == "delay":
                    card.delay = float(words[1]) / 1000.0
                    reply = "ok"
                elif words == ["stats"]:
                    with card.mutex:
                        reply = "fsyncs %d writes %d bytes %d" % (
                            card.fsyncs, card.writes, card.written)
                else:
                    reply = "unknown command"
                f.write(reply + "\n")
                f.flush()


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    backing, mount, control = argv[1:4]
    delay = 0.0
    lie = "--lie" in argv
    if "--fsync-delay-ms" in argv:
        delay = float(argv[argv.index("--fsync-delay-ms") + 1])
    card = Card(os.path.realpath(backing), delay, lie)
    # Listening before the mount, so that it is there once "ready" is printed.
    if os.path.exists(control):
        os.unlink(control)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(control)
    server.listen(4)
    threading.Thread(target=serve_control, args=(card, server), daemon=True).start()
    # No attribute or name caching, so that what the layer holds after a crash is what the
    # kernel shows; the page cache is dropped at each open (no keep_cache).
    FUSE(card, mount, foreground=True, nothreads=False, attr_timeout=0, entry_timeout=0,
         negative_timeout=0)


if __name__ == "__main__":
    main(sys.argv)
