using System;
using System.Net.Sockets;
using UnityEngine;
using Vtuber.Bridge.Core;

namespace Vtuber.Bridge
{
    /// <summary>
    /// Receives vtuber's (or any performer's) VMC stream and drives this avatar: a UDP listener on
    /// a background thread (port 39539 by default), the newest pose handed to the main thread and
    /// applied in LateUpdate (after the Animator, before UniVRM's own LateUpdate work).
    /// </summary>
    [DisallowMultipleComponent]
    [DefaultExecutionOrder(-100)]
    [AddComponentMenu("vtuber/VMC Receiver")]
    public sealed class VmcReceiver : MonoBehaviour
    {
        [Tooltip("UDP port to listen on (VMC marionette default: 39539).")]
        public int port = VmcUdpReceiver.DefaultPort;
        [Tooltip("Local address to bind: 0.0.0.0 = every interface, 127.0.0.1 = this machine only.")]
        public string bindAddress = "0.0.0.0";
        [Tooltip("Start listening when the component is enabled.")]
        public bool listenOnEnable = true;
        public AvatarSettings avatar = new AvatarSettings();

        readonly VmcUdpReceiver receiver = new VmcUdpReceiver();
        readonly VmcPose pose = new VmcPose();
        AvatarDriver driver;
        long sequence;

        public bool IsListening { get { return receiver.IsRunning; } }
        public int ListeningPort { get { return receiver.Port; } }
        public long Datagrams { get { return receiver.Datagrams; } }
        public long Rejected { get { return receiver.Rejected; } }
        public string LastError { get { return receiver.LastError; } }
        /// <summary>The newest pose applied (main thread only).</summary>
        public VmcPose Pose { get { return pose; } }

        /// <summary>Seconds since the last accepted datagram (infinity before the first).</summary>
        public float SecondsSinceLastPacket
        {
            get
            {
                int t = receiver.LastReceiveTick;
                return t == 0 ? float.PositiveInfinity : (Environment.TickCount - t) / 1000f;
            }
        }

        void OnEnable()
        {
            if (listenOnEnable) StartListening();
        }

        void Start()
        {
            driver = new AvatarDriver(this, avatar);
            driver.Prepare();
        }

        void OnDisable() { StopListening(); }

        void OnDestroy() { receiver.Dispose(); }

        /// <summary>Binds <see cref="port"/> and starts the receiver thread; logs one line when the port is taken.</summary>
        public bool StartListening()
        {
            try
            {
                receiver.Start(port, bindAddress);
                Debug.Log("vtuber: VMC receiver listening on " + bindAddress + ":" + receiver.Port);
                return true;
            }
            catch (SocketException e)
            {
                Debug.LogError("vtuber: cannot listen on UDP port " + port + " (" + e.Message + "); is another VMC receiver running?");
            }
            catch (FormatException)
            {
                Debug.LogError("vtuber: bad bind address '" + bindAddress + "'");
            }
            return false;
        }

        public void StopListening() { receiver.Stop(); }

        /// <summary>Re-capture the avatar (after swapping the model or changing the settings).</summary>
        public void Rebuild() { if (driver != null) driver.Reset(); }

        void LateUpdate()
        {
            if (!receiver.TryGetLatest(pose, ref sequence)) return;
            if (driver == null) driver = new AvatarDriver(this, avatar);
            driver.Apply(pose);
        }
    }
}
