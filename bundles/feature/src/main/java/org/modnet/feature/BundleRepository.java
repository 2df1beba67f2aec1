package org.modnet.feature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import org.osgi.framework.Constants;
import org.osgi.framework.Version;

/**
 * The folder of bundle jars that features install from (the build puts every modnet bundle and its
 * dependencies in {@code run-configs/target/repo}). A feature's bundle id is found by its Maven file
 * name, or else by a jar whose Bundle-SymbolicName is the artifact id at the same version.
 */
final class BundleRepository {
    private final Path dir;

    BundleRepository(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /** The jar for the id, or null. */
    Path find(MavenId id) throws IOException {
        Path byName = dir.resolve(id.fileName());
        if (Files.isRegularFile(byName)) {
            return byName;
        }
        if (!Files.isDirectory(dir)) {
            return null;
        }
        Version wanted = id.osgiVersion();
        try (Stream<Path> jars = Files.list(dir)) {
            for (Path jar : (Iterable<Path>) jars.filter(p -> p.toString().endsWith(".jar")).sorted()::iterator) {
                Map<String, String> headers = headers(jar);
                String bsn = headers.getOrDefault(Constants.BUNDLE_SYMBOLICNAME, "").split(";")[0].trim();
                String version = headers.getOrDefault(Constants.BUNDLE_VERSION, "0.0.0");
                if (bsn.equals(id.artifact()) && Version.parseVersion(version).equals(wanted)) {
                    return jar;
                }
            }
        }
        return null;
    }

    static Map<String, String> headers(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            Map<String, String> headers = new HashMap<>();
            if (file.getManifest() != null) {
                for (Map.Entry<Object, Object> e : file.getManifest().getMainAttributes().entrySet()) {
                    headers.put(((Attributes.Name) e.getKey()).toString(), String.valueOf(e.getValue()));
                }
            }
            return headers;
        }
    }
}
