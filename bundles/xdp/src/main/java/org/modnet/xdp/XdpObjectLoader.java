package org.modnet.xdp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetException;
import org.modnet.api.net.XdpHook;
import org.modnet.api.net.XdpLoader;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The XDP layer's loader: an object file's maps created (per-CPU ones for the core's CPUs), its
 * program verified for XDP and JIT-compiled, wrapped as a hook for {@code ip link set ... xdp obj}.
 */
@Component(service = XdpLoader.class, immediate = true)
public final class XdpObjectLoader implements XdpLoader {
    private final NetCore core;
    private final BpfSyscall bpf;
    private final FibLookup fib;
    private final TracePipe trace;

    @Activate
    public XdpObjectLoader(@Reference NetCore core, @Reference BpfSyscall bpf, @Reference FibLookup fib, @Reference TracePipe trace) {
        this.core = core;
        this.bpf = bpf;
        this.fib = fib;
        this.trace = trace;
    }

    @Override
    public XdpHook load(String file, String section) throws NetException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(Path.of(file));
        } catch (IOException e) {
            throw new NetException(Errno.ENOENT, "No such file or directory: " + file);
        }
        try {
            BpfObject o = bpf.objOpen(bytes);
            BpfObject.ProgramDef prog = section == null ? (o.programs().isEmpty() ? null : o.programs().get(0)) : o.program(section);
            if (prog == null) {
                throw new NetException(Errno.ENOENT, "No program in section " + (section == null ? "(any)" : "\"" + section + "\"")
                        + " of " + file);
            }
            List<BpfMap> maps = o.createMaps(core.cpus());
            BpfProg p = bpf.progLoad(prog, ProgType.XDP, AttachType.ofSection(prog.section()), maps, fib.helpers(), trace::printk,
                    BpfSyscall.JIT, false);
            String refused = EbpfXdpHook.notForADevice(p);
            if (refused != null) {
                p.close();
                throw new NetException(Errno.EINVAL, refused);
            }
            return new EbpfXdpHook(bpf, p);
        } catch (BpfException e) {
            throw new NetException(Errno.EINVAL, e.getMessage());
        }
    }
}
