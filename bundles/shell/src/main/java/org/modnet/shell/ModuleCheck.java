package org.modnet.shell;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;

import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;

/**
 * What a module jar says of itself, read before it goes near the framework, and the refusals that
 * follow from it, as {@code insmod} reads a module's {@code .modinfo} and {@code __versions} before
 * it loads it: not a bundle ("Invalid module format"), not a modnet module, another module's jar, a
 * state layout the running version cannot hand to it, or an API version nothing offers ("Unknown
 * symbol in module").
 */
final class ModuleCheck {
    /** The manifest header naming the layout of the state a version hands over and can adopt. */
    static final String STATE_VERSION = "Modnet-State-Version";
    /**
     * {@code Modnet-Update: staged}: the module's hand-over works between two bundles side by side, so
     * {@code update} installs the new jar beside the running one and warms it before it freezes the old.
     */
    static final String UPDATE = "Modnet-Update";

    /** One {@code Import-Package} clause: a package and the range of its versions the module accepts. */
    record Import(String pkg, VersionRange range, boolean optional) {
    }

    final String symbolicName;
    final String version;
    final String stateVersion;
    /** Whether the jar declares {@code Modnet-Update: staged}. */
    final boolean staged;
    final List<Import> imports;
    final List<String> exports;

    private ModuleCheck(Manifest m) {
        Attributes a = m.getMainAttributes();
        String bsn = a.getValue("Bundle-SymbolicName");
        this.symbolicName = bsn == null ? null : bsn.split(";")[0].trim();
        this.version = a.getValue("Bundle-Version");
        this.stateVersion = a.getValue(STATE_VERSION);
        this.staged = "staged".equalsIgnoreCase(String.valueOf(a.getValue(UPDATE)).trim());
        this.imports = new ArrayList<>();
        for (String clause : clauses(a.getValue("Import-Package"))) {
            String[] parts = clause.split(";");
            String range = "0.0.0";
            boolean optional = false;
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.startsWith("version=")) {
                    range = unquote(p.substring("version=".length()));
                } else if (p.replace(" ", "").equals("resolution:=optional")) {
                    optional = true;
                }
            }
            VersionRange r;
            try {
                r = new VersionRange(range);
            } catch (IllegalArgumentException e) {
                r = new VersionRange(VersionRange.LEFT_CLOSED, new Version(Integer.MAX_VALUE, 0, 0), null, VersionRange.RIGHT_OPEN);
            }
            for (String pkg : parts[0].split(";")) {
                imports.add(new Import(pkg.trim(), r, optional));
            }
        }
        this.exports = new ArrayList<>();
        for (String clause : clauses(a.getValue("Export-Package"))) {
            exports.add(clause.split(";")[0].trim());
        }
    }

    /**
     * The jar's manifest, or the refusal in Linux's words when it is no OSGi bundle.
     *
     * @throws IllegalArgumentException with the reason, when the bytes are no bundle
     */
    static ModuleCheck read(byte[] jar) {
        Manifest m;
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
            m = in.getManifest();
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException("Invalid module format (not a jar: " + e.getMessage() + ")");
        }
        if (m == null) {
            throw new IllegalArgumentException("Invalid module format (not an OSGi bundle: no manifest)");
        }
        ModuleCheck c = new ModuleCheck(m);
        if (c.symbolicName == null || c.symbolicName.isEmpty()) {
            throw new IllegalArgumentException("Invalid module format (not an OSGi bundle: no Bundle-SymbolicName in its manifest)");
        }
        return c;
    }

    /** A modnet module uses modnet's API: it imports some {@code org.modnet} package. */
    boolean isModnetModule() {
        for (Import i : imports) { // a loop, not a lambda: update's path runs it first in a JVM
            if (i.pkg().startsWith("org.modnet.")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a version holding {@code runningStateVersion} can hand its state to this one: refused when
     * both name a layout and they differ, or this one's cannot be read. Null when it can.
     */
    String stateRefusal(String runningStateVersion) {
        if (stateVersion == null || runningStateVersion == null) {
            return null; // no hand-over on one side: nothing to read
        }
        try {
            Integer.parseInt(stateVersion.trim());
        } catch (NumberFormatException e) {
            return "its " + STATE_VERSION + " '" + stateVersion.trim() + "' is not a number";
        }
        if (!stateVersion.trim().equals(runningStateVersion.trim())) {
            return "it reads state version " + stateVersion.trim() + ", the running version holds version "
                    + runningStateVersion.trim();
        }
        return null;
    }

    /** Splits a manifest header into clauses at commas outside quotes. */
    static List<String> clauses(String header) {
        List<String> out = new ArrayList<>();
        if (header == null) {
            return out;
        }
        StringBuilder sb = new StringBuilder();
        boolean quoted = false;
        for (char ch : header.toCharArray()) {
            if (ch == '"') {
                quoted = !quoted;
            }
            if (ch == ',' && !quoted) {
                if (!sb.toString().isBlank()) {
                    out.add(sb.toString().trim());
                }
                sb.setLength(0);
            } else {
                sb.append(ch);
            }
        }
        if (!sb.toString().isBlank()) {
            out.add(sb.toString().trim());
        }
        return out;
    }

    private static String unquote(String s) {
        s = s.trim();
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }
}
