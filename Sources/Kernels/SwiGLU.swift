// SwiGLU, forward and backward: out (N, H) = silu(gate) · up from gateUp (N, 2H) = [gate | up]
// per row, silu(x) = x · σ(x). The backward pass *adds* into d gateUp.
// Legend: N = rows, H = hidden (MLP) channels.
import Foundation

/// out (N, H) = silu(gate) · up, silu(x) = x · σ(x), from gateUp (N, 2H) = [gate | up] per row.
public func swigluForward(_ out: UnsafeMutablePointer<Float>, _ gateUp: UnsafePointer<Float>, rows N: Int, H: Int) {
    let p = Shared((out: out, gateUp: gateUp))
    Parallel.chunks(N, minChunk: 4) { rows in
        let (out, gateUp) = p.value
        for r in rows {
            let g = gateUp + r * 2 * H, u = g + H, o = out + r * H
            let rg = UnsafeRawPointer(g), ru = UnsafeRawPointer(u), ro = UnsafeMutableRawPointer(o)
            var i = 0
            while i + 8 <= H {
                let gv = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let uv = ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                ro.storeBytes(of: gv / (1 + exp8(-gv)) * uv, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < H { o[i] = g[i] / (1 + expf(-g[i])) * u[i]; i += 1 }
        }
    }
}

/// For h = silu(g) · u from gateUp (N, 2H) = [g | u]:  dgateUp (N, 2H) = [dh · u · silu'(g) | dh · silu(g)]
/// (written, not added), silu'(g) = σ(g) · (1 + g · (1 − σ(g))).
public func swigluBackward(dgateUp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, gateUp: UnsafePointer<Float>, rows N: Int, H: Int) {
    let p = Shared((dgateUp: dgateUp, dout: dout, gateUp: gateUp))
    Parallel.chunks(N, minChunk: 4) { rows in
        let v = p.value
        for r in rows {
            let g = v.gateUp + r * 2 * H, u = g + H, dh = v.dout + r * H, dg = v.dgateUp + r * 2 * H, du = dg + H
            for i in 0..<H {
                let s = 1 / (1 + expf(-g[i]))
                du[i] = dh[i] * g[i] * s
                dg[i] = dh[i] * u[i] * s * (1 + g[i] * (1 - s))
            }
        }
    }
}
