package org.modnet.console;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Where instances keep their control sockets, and who may be trusted there. The directory is
 * {@code $MODNET_RUNDIR} if set, else {@code /run/modnet} for root, else
 * {@code $XDG_RUNTIME_DIR/modnet} when that is a directory of the user's own with mode 0700, else
 * {@code ${TMPDIR:-/tmp}/modnet-UID} (as tmux does). The last lives in a directory anyone may write
 * to, so another user can make it first: both the instance and the attach client look at the owner
 * and mode of the directory and of the socket before they use them, and refuse, naming the owner,
 * what another user made (tmux and ssh-agent refuse theirs the same way).
 */
final class RunDir {
    /** A run directory or socket that belongs to someone else: refused, status 126 (permission denied). */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** What the checks read of a path (lstat: a link is not followed): owner and st_mode. */
    record Stat(int uid, int mode) {
        private static final int S_IFMT = 0170000;

        boolean isDirectory() {
            return (mode & S_IFMT) == 0040000;
        }

        boolean isSymbolicLink() {
            return (mode & S_IFMT) == 0120000;
        }

        boolean isSocket() {
            return (mode & S_IFMT) == 0140000;
        }

        /** Group or others may write: they could put or replace a socket there. */
        boolean writableByOthers() {
            return (mode & 0022) != 0;
        }

        boolean privateToOwner() {
            return (mode & 0077) == 0;
        }

        String permissions() {
            return String.format("%04o", mode & 07777);
        }
    }

    /** Reads a path's {@link Stat}; the file system's, or a test's own. */
    interface Inspector {
        /** The stat of the path itself, or {@link NoSuchFileException} when there is none. */
        Stat lstat(Path path) throws IOException;
    }

    static final Inspector FILES = path -> {
        Map<String, Object> a = Files.readAttributes(path, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
        return new Stat((Integer) a.get("uid"), (Integer) a.get("mode"));
    };

    private RunDir() {
    }

    static Path dir() {
        return choose(System.getenv(), uid(), FILES);
    }

    static Path socket(String instance) {
        return dir().resolve(instance + ".sock");
    }

    /** The run directory for a user with these environment variables. */
    static Path choose(Map<String, String> env, int uid, Inspector files) {
        String override = env.get("MODNET_RUNDIR");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        if (uid == 0) {
            return Path.of("/run/modnet");
        }
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && xdg.startsWith("/")) {
            try {
                Stat s = files.lstat(Path.of(xdg));
                if (s.isDirectory() && s.uid() == uid && s.privateToOwner()) {
                    return Path.of(xdg, "modnet");
                }
            } catch (IOException e) {
                // no such directory (a stale variable): the fallback below
            }
        }
        String tmp = env.get("TMPDIR");
        return Path.of(tmp == null || !tmp.startsWith("/") ? "/tmp" : tmp, "modnet-" + uid);
    }

    /**
     * The attach client's check of an existing run directory: it must be a directory (not a link)
     * of this user or root, that no one else may write to. Root's is allowed so that its refusal
     * comes from the instance itself, with the instance's words.
     */
    static void checkDir(Path dir, int uid, Inspector files) throws IOException {
        checkOwned(dir, files.lstat(dir), uid, true);
    }

    /** The attach client's check of the socket: as the directory's, and a socket it must be. */
    static void checkSocket(Path socket, int uid, Inspector files) throws IOException {
        Stat s = files.lstat(socket);
        checkOwned(socket, s, uid, false);
        if (!s.isSocket()) {
            throw new Refused(socket + " is not a socket: refusing (remove it)");
        }
    }

    private static void checkOwned(Path path, Stat s, int uid, boolean directory) throws Refused {
        if (s.isSymbolicLink()) {
            throw new Refused(path + " is a symbolic link: refusing (remove it)");
        }
        if (directory && !s.isDirectory()) {
            throw new Refused(path + " is not a directory: refusing (remove it)");
        }
        if (s.uid() != uid && s.uid() != 0) {
            throw new Refused(path + " is owned by uid " + s.uid() + ", not by you: refusing (remove it)");
        }
        if (s.writableByOthers()) {
            throw new Refused(path + " is writable by group or others (mode " + s.permissions()
                    + "): refusing (remove it)");
        }
    }

    /**
     * The instance's side: creates the directory 0700 if needed, and checks that it is this user's
     * own (not root's either: an instance puts its socket only in a directory of its own user). A
     * directory of ours that others may enter is made private again.
     */
    static Path ensurePrivate() throws IOException {
        return ensurePrivate(dir(), uid(), FILES);
    }

    static Path ensurePrivate(Path dir, int uid, Inspector files) throws IOException {
        Stat s;
        try {
            s = files.lstat(dir);
        } catch (NoSuchFileException e) {
            Files.createDirectories(dir.toAbsolutePath().getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException raced) {
                // made by a concurrent instance, or by someone else: checked below like any directory
            }
            s = files.lstat(dir);
        }
        if (s.isSymbolicLink()) {
            throw new Refused(dir + " is a symbolic link: refusing (remove it)");
        }
        if (!s.isDirectory()) {
            throw new Refused(dir + " is not a directory: refusing (remove it)");
        }
        if (s.uid() != uid) {
            throw new Refused(dir + " is owned by uid " + s.uid() + ", not by you: refusing (remove it)");
        }
        if (!s.privateToOwner()) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        return dir;
    }

    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("modnet: cannot tell this process's uid: " + e.getMessage(), e);
        }
    }
}
