package org.modnet.sched;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.api.ProgType;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code tc filter ... bpf obj FILE [sec NAME] [da]} ({@code f_bpf.c}): the object's maps created, its
 * program verified as {@code SCHED_CLS} against them and compiled, with the runtime's own helpers
 * ({@code bpf_clone_redirect}, {@code bpf_skb_change_head}). Present only while the eBPF layer is:
 * the sched bundle imports its API optionally, so a router without it still has tc.
 */
@Component(service = ClsBpfObjects.class)
public final class ClsBpfObjects implements ClsBpfLoader {
    static final String USAGE = """
            Usage: ... bpf ...

            BPF use case:
             bytecode BPF_BYTECODE
             bytecode-file FILE

            eBPF use case:
             object-file FILE [ section CLS_NAME ] [ export UDS_FILE ] [ verbose ] [ direct-action ] [ skip_hw | skip_sw ]
             object-pinned FILE [ direct-action ] [ skip_hw | skip_sw ]

            Common remaining options:
             [ action ACTION_SPEC ]
             [ classid CLASSID ]""";

    private final NetCore core;
    private final BpfSyscall bpf;
    private final Helpers helpers = new Helpers();

    @Activate
    public ClsBpfObjects(@Reference NetCore core, @Reference BpfSyscall bpf) {
        this.core = core;
        this.bpf = bpf;
        helpers.register(HelperProtos.CLONE_REDIRECT, "bpf_clone_redirect",
                (r1, r2, r3, r4, r5, m) -> ClsBpf.cloneRedirect(core, (ClsBpf.Run) m.device(), r2, r3));
        helpers.register(HelperProtos.SKB_CHANGE_HEAD, "bpf_skb_change_head",
                (r1, r2, r3, r4, r5, m) -> ClsBpf.changeHead((ClsBpf.Run) m.device(), r2, r3));
    }

    @Override
    public TcFilter parse(NetNamespace ns, TcFilterArgs a, int handle, ActApi actions) {
        String file = null;
        String section = "classifier";
        boolean da = false;
        boolean verbose = false;
        int classid = 0;
        List<org.modnet.sched.TcAction> acts = new ArrayList<>();
        while (a.more()) {
            if (ActApi.atAction(a)) {
                acts.addAll(actions.parse(ns, a));
                continue;
            }
            String w = a.next();
            switch (w) {
                case "obj", "object-file" -> file = a.value();
                case "sec", "section" -> section = a.value();
                case "da", "direct-action" -> da = true;
                case "verbose" -> verbose = true;
                case "skip_hw" -> {
                }
                case "skip_sw" -> throw TcFilterApi.answers("Operation not supported");
                case "classid", "flowid" -> {
                    classid = TcUtil.parseClassid(a.value());
                    if (classid == -1) {
                        throw TcUtil.illegal("classid");
                    }
                }
                case "help" -> throw new CommandException(USAGE, 255);
                default -> throw new CommandException("What is \"" + w + "\"?\n" + USAGE, 1);
            }
        }
        if (file == null) {
            throw new CommandException("No object file given!\n" + USAGE, 1);
        }
        BpfProg prog = load(file, section, verbose);
        String label = Path.of(file).getFileName() + ":[" + section + "]";
        return new TcFilter(handle, classid, new ClsBpf(core, prog, da, label, classid), acts);
    }

    private BpfProg load(String file, String section, boolean verbose) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(Path.of(file));
        } catch (IOException e) {
            throw new CommandException("Cannot open object file " + file + "!\nUnable to load program", 1);
        }
        BpfObject.ProgramDef def;
        List<BpfMap> maps;
        try {
            BpfObject o = bpf.objOpen(bytes);
            def = o.program(section);
            if (def == null) {
                throw new CommandException("Program section \"" + section + "\" not found in " + file
                        + "!\nUnable to load program", 1);
            }
            maps = o.createMaps(core.cpus());
        } catch (BpfException e) {
            throw new CommandException("Error fetching ELF ancillary data: " + e.getMessage() + "\nUnable to load program", 1);
        }
        try {
            return bpf.progLoad(def, ProgType.SCHED_CLS, AttachType.DEFAULT, maps, helpers, null, BpfSyscall.JIT,
                    verbose);
        } catch (BpfException e) {
            String log = e.getMessage();
            try { // the verbose log, as tc prints it on a refusal
                bpf.progLoad(def, ProgType.SCHED_CLS, AttachType.DEFAULT, maps, helpers, null, BpfSyscall.JIT, true);
            } catch (BpfException verbose2) {
                log = verbose2.getMessage();
            }
            throw new CommandException("\nVerifier analysis:\n\n" + log + "\nError fetching program/map!\nUnable to load program", 1);
        }
    }
}
