package org.modnet.console;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Where instances keep their control sockets: {@code $XDG_RUNTIME_DIR/modnet}, else
 * {@code /tmp/modnet-UID} (as tmux does), a directory only its owner may enter. A directory that
 * belongs to someone else, or that others can enter, is refused rather than used.
 */
final class RunDir {
    private RunDir() {
    }

    static Path dir() {
        String override = System.getProperty("modnet.rundir");
        if (override != null && !override.isBlank()) {
            return Paths.get(override);
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank() && Files.isDirectory(Paths.get(xdg))) {
            return Paths.get(xdg, "modnet");
        }
        return Paths.get(System.getProperty("java.io.tmpdir", "/tmp"), "modnet-" + uid());
    }

    static Path socket(String instance) {
        return dir().resolve(instance + ".sock");
    }

    /** Creates the directory 0700 if needed, and checks that it is ours and private. */
    static Path ensurePrivate() throws IOException {
        Path dir = dir();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // created by a concurrent instance: checked below like any existing directory
            }
        }
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("modnet: " + dir + " is not a directory");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != uid()) {
            throw new IOException("modnet: " + dir + " belongs to uid " + owner + ", not to you (uid " + uid() + ")");
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!PosixFilePermissions.toString(perms).endsWith("------")) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        return dir;
    }

    static int uid() {
        try {
            return (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("modnet: cannot tell this process's uid: " + e.getMessage(), e);
        }
    }
}
