package org.modnet.xdp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfAdoption;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * This modnet instance's bpf file system, {@code /sys/fs/bpf}: programs and maps pinned by path
 * ({@code bpftool prog pin}, {@code bpftool map pin}, {@code bpftool prog load OBJ PATH}) stay loaded
 * with nothing else holding them, until {@code rm PATH} unpins them — as in Linux, where a pin is a
 * reference and unlinking the file drops it. Directories are implied by the paths (pinning makes
 * them); each instance has its own, and it empties when the xdp bundle stops — or when the eBPF
 * implementation whose programs and maps it holds is stopped ({@link XdpDetach}). On an update of
 * the ebpf bundle the pins stay: they name the same ids, and point at the objects the new
 * implementation adopted ({@link #adopt}).
 */
@Component(service = BpfFs.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=rm" })
public final class BpfFs {
    static final String ROOT = "/sys/fs/bpf";

    private final Map<String, Object> pins = new ConcurrentSkipListMap<>();

    /** Outlives the eBPF implementation: {@link XdpDetach} empties it on a stop and moves its pins on an update. */
    public BpfFs() {
    }

    /** The path normalised ({@code //}, trailing {@code /}); refused outside {@value #ROOT}. */
    static String path(String path) {
        String p = path.replaceAll("/+", "/");
        if (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (!p.startsWith(ROOT + "/") || p.contains("/../") || p.endsWith("/..") || p.contains("/./")) {
            throw new CommandException("Error: can't pin the object (" + path + "): not a bpf file system path (" + ROOT + "/...)", 255);
        }
        return p;
    }

    /** Pins a program (taking a reference) or a map at {@code path}, which must not exist; the normalised path. */
    public String pin(String path, Object object) {
        String p = path(path);
        synchronized (pins) {
            if (pins.containsKey(p) || pins.keySet().stream().anyMatch(k -> p.startsWith(k + "/"))) {
                throw new CommandException("Error: can't pin the object (" + path + "): File exists", 255);
            }
            if (object instanceof BpfProg prog) {
                prog.hold();
            }
            pins.put(p, object);
        }
        return p;
    }

    /** What is pinned at {@code path}, or an error as {@code bpf_obj_get} gives for a path with nothing. */
    public Object get(String path) {
        Object o = pins.get(path(path));
        if (o == null) {
            throw new CommandException("Error: bpf obj get (" + path + "): No such file or directory", 255);
        }
        return o;
    }

    /** The paths an object is pinned at. */
    public List<String> pathsOf(Object object) {
        List<String> l = new ArrayList<>();
        pins.forEach((k, v) -> {
            if (v == object) {
                l.add(k);
            }
        });
        return l;
    }

    /** Every pinned map: maps stay alive while pinned, with or without a program. */
    public List<BpfMap> maps() {
        List<BpfMap> l = new ArrayList<>();
        for (Object o : pins.values()) {
            if (o instanceof BpfMap m && !l.contains(m)) {
                l.add(m);
            }
        }
        return l;
    }

    /** {@code rm [-r] PATH...}: unpins (a directory with -r: everything under it). */
    public void rm(String... args) {
        args = Commands.words(args);
        boolean recursive = false;
        List<String> paths = new ArrayList<>();
        for (String a : args == null ? new String[0] : args) {
            if (a.equals("-r") || a.equals("-rf") || a.equals("-R")) {
                recursive = true;
            } else if (a.startsWith("-")) {
                throw new CommandException("rm: invalid option -- '" + a.substring(1) + "'", 1);
            } else {
                paths.add(a);
            }
        }
        if (paths.isEmpty()) {
            throw new CommandException("rm: missing operand", 1);
        }
        for (String a : paths) {
            String p;
            try {
                p = path(a);
            } catch (CommandException e) {
                throw new CommandException("rm: cannot remove '" + a + "': only pinned objects under " + ROOT + " can be removed here", 1);
            }
            synchronized (pins) {
                List<String> under = pins.keySet().stream().filter(k -> k.startsWith(p + "/")).toList();
                if (!pins.containsKey(p) && under.isEmpty()) {
                    throw new CommandException("rm: cannot remove '" + a + "': No such file or directory", 1);
                }
                if (!under.isEmpty() && !recursive) {
                    throw new CommandException("rm: cannot remove '" + a + "': Is a directory", 1);
                }
                unpin(p);
                under.forEach(this::unpin);
            }
        }
    }

    /** Removes the pin at a normalised path, dropping its reference. */
    void unpin(String p) {
        Object o = pins.remove(p);
        if (o instanceof BpfProg prog) {
            prog.close();
        }
    }

    /** Every pin removed (the implementation of its objects stopped). */
    void clear() {
        synchronized (pins) {
            List.copyOf(pins.keySet()).forEach(this::unpin);
        }
    }

    /**
     * The pins name the objects the next implementation adopted under the same ids: each program pin
     * takes a reference on the adopted program and lets go of the old; a pin whose object was not
     * adopted (a program the new verifier refused) is removed.
     */
    void adopt(BpfAdoption a) {
        synchronized (pins) {
            for (Map.Entry<String, Object> e : List.copyOf(pins.entrySet())) {
                Object now = e.getValue() instanceof BpfProg p ? a.prog(p.id()) : e.getValue() instanceof BpfMap m ? a.map(m.id()) : null;
                if (now == null) {
                    unpin(e.getKey());
                    continue;
                }
                if (now instanceof BpfProg p) {
                    p.hold();
                }
                Object was = pins.put(e.getKey(), now);
                if (was instanceof BpfProg p) {
                    p.close();
                }
            }
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (pins) {
            List.copyOf(pins.keySet()).forEach(this::unpin);
        }
    }
}
