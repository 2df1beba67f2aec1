package org.modnet.socket;

import java.util.List;

import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code /proc/net/sockstat}: sockets in use, and each protocol's sockets and memory pages. */
@Component(service = ProcFile.class, immediate = true, property = ProcFile.PATH + "=/proc/net/sockstat")
public final class ProcSockstat implements ProcFile {
    private final SocketLayer layer;

    @Activate
    public ProcSockstat(@Reference SocketLayer layer) {
        this.layer = layer;
    }

    @Override
    public List<String> read(NetNamespace ns) {
        return SsCommand.sockstat(layer, ns);
    }
}
