package org.modnet.apps;

import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Path;

/** An httpd serving a directory on the JDK's loopback sockets, on a thread of its own: the apps tests' server. */
record HttpdServing(Httpd httpd, Thread thread) {
    /** Serves {@code root} on the first port from {@code from} that is free. */
    static HttpdServing start(Path root, int from) throws Exception {
        for (int port = from; ; port++) {
            Httpd httpd = new Httpd(SelectorProvider.provider(), new HttpFiles(root), port, null);
            try {
                ServerSocketChannel server = httpd.bind();
                Thread serving = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        httpd.serve(server);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                return new HttpdServing(httpd, serving);
            } catch (java.net.BindException e) {
                // the next port
            }
        }
    }
}
