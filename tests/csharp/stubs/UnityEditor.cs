// UnityEngine/UniVRM STUBS — not Unity.
// Exactly the UnityEditor API that unity_bridge/Editor touches (compile checks only).
using System;
using UnityEngine;

namespace UnityEditor
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class CustomEditor : Attribute
    {
        public CustomEditor(Type inspectedType) { }
    }

    public class Editor : ScriptableObject
    {
        public UnityEngine.Object target { get { throw new NotSupportedException("stub"); } }
        public virtual void OnInspectorGUI() { }
        public virtual bool RequiresConstantRepaint() { return false; }
        public bool DrawDefaultInspector() { throw new NotSupportedException("stub"); }
    }

    public static class Selection
    {
        public static GameObject activeGameObject { get { throw new NotSupportedException("stub"); } }
    }

    public static class EditorUtility
    {
        public static bool DisplayDialog(string title, string message, string ok) { throw new NotSupportedException("stub"); }
        public static string OpenFilePanel(string title, string directory, string extension) { throw new NotSupportedException("stub"); }
        public static void SetDirty(UnityEngine.Object target) { }
    }

    public static class Undo
    {
        public static T AddComponent<T>(GameObject gameObject) where T : Component { throw new NotSupportedException("stub"); }
        public static Component AddComponent(GameObject gameObject, Type type) { throw new NotSupportedException("stub"); }
        public static void RecordObject(UnityEngine.Object objectToUndo, string name) { }
    }

    public static class EditorApplication
    {
        public static bool isPlaying { get { throw new NotSupportedException("stub"); } }
    }

    public enum MessageType { None, Info, Warning, Error }

    public static class EditorGUILayout
    {
        public static void HelpBox(string message, MessageType type) { }
        public static void LabelField(string label) { }
        public static float Slider(string label, float value, float leftValue, float rightValue) { throw new NotSupportedException("stub"); }
    }
}
