package org.modnet.shell;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The folder of module jars {@code modprobe} loads from, as {@code /lib/modules/$(uname -r)} is
 * modprobe's: the feature manager's repository ({@code modnet.repo}). A module is found by its
 * symbolic name; what a module needs is found by the packages and services the jars offer, read from
 * their manifests (never loaded).
 */
final class ModuleRepository {
    private static final Pattern SERVICE = Pattern.compile("objectClass(?::List<String>)?=\"?([^\";]+)");

    /** One jar's name, version and what it offers. */
    record Module(Path jar, String name, String version, List<String> packages, List<String> services) {
    }

    private final Path dir;

    ModuleRepository(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /** Every bundle jar in the folder (none when the folder is missing), sorted by file name. */
    List<Module> modules() throws IOException {
        List<Module> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> jars = Files.list(dir)) {
            for (Path jar : (Iterable<Path>) jars.filter(p -> p.toString().endsWith(".jar")).sorted()::iterator) {
                Module m = read(jar);
                if (m != null) {
                    out.add(m);
                }
            }
        }
        return out;
    }

    /** The module for a name as lsmod shows it or its short form ({@code udp}, {@code veth}); null if none. */
    Module find(String name) throws IOException {
        Module best = null;
        for (Module m : modules()) {
            if (ModuleCommands.matches(name, m.name())
                    && (best == null || compareVersions(m.version(), best.version()) > 0)) {
                best = m;
            }
        }
        return best;
    }

    /** A module exporting the package, or null. */
    Module exporting(String pkg) throws IOException {
        for (Module m : modules()) {
            if (m.packages().contains(pkg)) {
                return m;
            }
        }
        return null;
    }

    /** A module registering a service of the type (bnd's {@code osgi.service} capability), or null. */
    Module providing(String objectClass) throws IOException {
        for (Module m : modules()) {
            if (m.services().contains(objectClass)) {
                return m;
            }
        }
        return null;
    }

    static Module read(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            if (file.getManifest() == null) {
                return null;
            }
            Attributes main = file.getManifest().getMainAttributes();
            String bsn = main.getValue("Bundle-SymbolicName");
            if (bsn == null) {
                return null;
            }
            String version = main.getValue("Bundle-Version");
            List<String> packages = new ArrayList<>();
            for (String clause : clauses(main.getValue("Export-Package"))) {
                for (String part : clause.split(";")) {
                    if (part.contains("=")) {
                        break; // the attributes and directives after the clause's package names
                    }
                    packages.add(part.trim());
                }
            }
            List<String> services = new ArrayList<>();
            for (String clause : clauses(main.getValue("Provide-Capability"))) {
                if (clause.trim().startsWith("osgi.service;")) {
                    Matcher m = SERVICE.matcher(clause);
                    if (m.find()) {
                        for (String type : m.group(1).split(",")) {
                            services.add(type.trim());
                        }
                    }
                }
            }
            return new Module(jar, bsn.split(";")[0].trim(), version == null ? "0.0.0" : version.trim(), packages, services);
        }
    }

    /** A manifest header's clauses: split at commas outside quotes. */
    static List<String> clauses(String header) {
        List<String> out = new ArrayList<>();
        if (header == null || header.isBlank()) {
            return out;
        }
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < header.length(); i++) {
            char c = header.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                out.add(cur.toString().trim());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur.toString().trim());
        }
        return out;
    }

    private static int compareVersions(String a, String b) {
        return org.osgi.framework.Version.parseVersion(a).compareTo(org.osgi.framework.Version.parseVersion(b));
    }
}
