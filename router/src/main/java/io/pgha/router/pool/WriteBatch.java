package io.pgha.router.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.NetSocketInternal;

/**
 * What one read of the peer on the other side produced for this socket, gathered in one pooled
 * direct buffer and written with a single flush and no completion promise.
 *
 * <p>Why not {@link NetSocket#write}: Vert.x makes a promise with a listener for every write, and
 * the native transport copies a heap buffer into a direct one before it sends it. Written here
 * the bytes are copied once, into memory the kernel can be handed as it is. The write goes
 * through the socket's own pipeline position, so TLS (added in front of it) still encrypts it,
 * and Vert.x's writability, {@link NetSocket#writeQueueFull} and drain handler see it as theirs.
 * On the socket's event loop only.
 */
public final class WriteBatch {
    private static final int INITIAL_CAPACITY = 1024;

    private final ChannelHandlerContext ctx;
    private ByteBuf batch;
    /** Writes made so far: one system call each while the socket keeps up, so fewer is cheaper. */
    private long writes;

    public WriteBatch(NetSocket socket) {
        this.ctx = ((NetSocketInternal) socket).channelHandlerContext();
    }

    /** Appends a message (or a piece of one); nothing is sent before {@link #flush()}. */
    public void add(Buffer message) {
        int length = message.length();
        if (batch == null) {
            batch = ctx.alloc().directBuffer(Math.max(INITIAL_CAPACITY, length));
        }
        // the buffer's own bytes (it indexes them from 0): Buffer.getByteBuf() would wrap them in two
        // new objects for every message
        batch.writeBytes(((BufferImpl) message).byteBuf(), 0, length);
    }

    /** Sends what was gathered; returns how many bytes (0 when there was nothing, or the socket is closed). */
    public int flush() {
        ByteBuf b = batch;
        if (b == null) {
            return 0;
        }
        batch = null;
        if (!ctx.channel().isActive()) {
            b.release();
            return 0;
        }
        int bytes = b.readableBytes();
        ctx.writeAndFlush(b, ctx.voidPromise());
        writes++;
        return bytes;
    }

    /** How many writes {@link #flush()} has made. */
    public long writes() {
        return writes;
    }

    /** The socket is gone or going: what was gathered is dropped and its memory given back. */
    public void discard() {
        if (batch != null) {
            batch.release();
            batch = null;
        }
    }
}
