// UnityEngine/UniVRM STUBS — not Unity.
// Exactly the UnityEngine API that unity_bridge's Unity-facing scripts touch, so that mcs can
// compile them on a machine without Unity (tests/test_unity_bridge.py). Signatures follow Unity's
// scripting reference; bodies do nothing useful and must never be shipped or run as Unity.
using System;

namespace UnityEngine
{
    public class Object
    {
        public string name { get; set; }
    }

    public class ScriptableObject : Object { }

    public class Component : Object
    {
        public Transform transform { get { throw new NotSupportedException("stub"); } }
        public T GetComponent<T>() { throw new NotSupportedException("stub"); }
        public T GetComponentInChildren<T>() { throw new NotSupportedException("stub"); }
        public T[] GetComponents<T>() { throw new NotSupportedException("stub"); }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }
    }

    public class MonoBehaviour : Behaviour { }

    public sealed class GameObject : Object
    {
        public T GetComponent<T>() { throw new NotSupportedException("stub"); }
        public Component GetComponent(Type type) { throw new NotSupportedException("stub"); }
        public Component GetComponentInChildren(Type type) { throw new NotSupportedException("stub"); }
    }

    public class Transform : Component
    {
        public Quaternion rotation { get; set; }
        public Quaternion localRotation { get; set; }
        public Vector3 localPosition { get; set; }
        public Transform parent { get; set; }
    }

    public class Animator : Behaviour
    {
        public bool isHuman { get { throw new NotSupportedException("stub"); } }
        public Transform GetBoneTransform(HumanBodyBones humanBoneId) { throw new NotSupportedException("stub"); }
    }

    public enum HumanBodyBones
    {
        Hips = 0, LeftUpperLeg = 1, RightUpperLeg = 2, LeftLowerLeg = 3, RightLowerLeg = 4,
        LeftFoot = 5, RightFoot = 6, Spine = 7, Chest = 8, Neck = 9, Head = 10,
        LeftShoulder = 11, RightShoulder = 12, LeftUpperArm = 13, RightUpperArm = 14,
        LeftLowerArm = 15, RightLowerArm = 16, LeftHand = 17, RightHand = 18,
        LeftToes = 19, RightToes = 20, LeftEye = 21, RightEye = 22, Jaw = 23,
        LeftThumbProximal = 24, LeftThumbIntermediate = 25, LeftThumbDistal = 26,
        LeftIndexProximal = 27, LeftIndexIntermediate = 28, LeftIndexDistal = 29,
        LeftMiddleProximal = 30, LeftMiddleIntermediate = 31, LeftMiddleDistal = 32,
        LeftRingProximal = 33, LeftRingIntermediate = 34, LeftRingDistal = 35,
        LeftLittleProximal = 36, LeftLittleIntermediate = 37, LeftLittleDistal = 38,
        RightThumbProximal = 39, RightThumbIntermediate = 40, RightThumbDistal = 41,
        RightIndexProximal = 42, RightIndexIntermediate = 43, RightIndexDistal = 44,
        RightMiddleProximal = 45, RightMiddleIntermediate = 46, RightMiddleDistal = 47,
        RightRingProximal = 48, RightRingIntermediate = 49, RightRingDistal = 50,
        RightLittleProximal = 51, RightLittleIntermediate = 52, RightLittleDistal = 53,
        UpperChest = 54, LastBone = 55,
    }

    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
        public static Quaternion identity { get { return new Quaternion(0f, 0f, 0f, 1f); } }
        public static Quaternion Inverse(Quaternion rotation) { throw new NotSupportedException("stub"); }
        public static Quaternion operator *(Quaternion lhs, Quaternion rhs) { throw new NotSupportedException("stub"); }
    }

    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
    }

    public static class Debug
    {
        public static void Log(object message) { }
        public static void LogWarning(object message) { }
        public static void LogError(object message) { }
    }

    public static class Time
    {
        public static float deltaTime { get { throw new NotSupportedException("stub"); } }
        public static float unscaledDeltaTime { get { throw new NotSupportedException("stub"); } }
    }

    public enum KeyCode { Space, LeftArrow, RightArrow, Home, UpArrow, DownArrow, L }

    public static class Input
    {
        public static bool GetKeyDown(KeyCode key) { throw new NotSupportedException("stub"); }
    }

    public static class GUILayout
    {
        public static bool Button(string text) { throw new NotSupportedException("stub"); }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute { }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DefaultExecutionOrder : Attribute
    {
        public DefaultExecutionOrder(int order) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName) { }
    }
}
